"""The track backgrounds drawn once per process, their PDF operators copied on every page.

WeasyPrint draws an SVG image by walking its tree on every page (about 20 nodes, 6 ms a
page, a fifth of the time of writing a certificate). The drawing is a pure function of the
parsed image and its size: the same ~450 operators and the same opacity states each time.
:func:`replay` makes one parsed image record what its first drawing added to the Form
XObject it was drawn into, and append exactly that to the following ones (joined into one
item: the stream serialises to the same bytes). Only plain drawings are recorded: one that
adds images, patterns, shadings or masks to its group is drawn afresh every time.

Pinned to weasyprint 70: ``SVGImage.draw(stream, width, height, style)`` and the
resources of ``pdf.stream.Stream`` (``_resources``).
"""

from __future__ import annotations

import pydyf
from weasyprint.images import SVGImage

SHARED_KINDS = ("XObject", "Pattern", "Shading")  # PDF objects: never copied between files


def _plain_states(states) -> bool:
    """Only opacity states (``{'ca': 1.0}``): small values, copied into each file."""
    return all(
        isinstance(state, dict) and all(isinstance(v, int | float) for v in state.values())
        for state in states.values()
    )


def replay(image: SVGImage) -> SVGImage:
    """Make ``image`` draw itself once per size and then copy that drawing (idempotent)."""
    if getattr(image, "lms_replayed", False):
        return image
    draw = image.draw
    recorded: dict[tuple[float, float], tuple[bytes, dict] | None] = {}

    def replayed(stream, concrete_width, concrete_height, style):
        key = (concrete_width, concrete_height)
        resources = stream._resources
        fresh = not any(resources.get(kind) for kind in ("ExtGState", *SHARED_KINDS))
        if fresh and recorded.get(key) is not None:
            operators, states = recorded[key]
            stream.stream.append(operators)
            resources["ExtGState"].update(
                {name: pydyf.Dictionary(state) for name, state in states.items()}
            )
            return
        start, depth = len(stream.stream), len(stream._ctm_stack)
        draw(stream, concrete_width, concrete_height, style)
        if not fresh or key in recorded:
            return
        added = stream.stream[start:]
        plain = (
            all(isinstance(item, bytes) for item in added)
            and len(stream._ctm_stack) == depth
            and not any(resources.get(kind) for kind in SHARED_KINDS)
            and _plain_states(resources.get("ExtGState") or {})
        )
        recorded[key] = (
            (
                b"\n".join(added),
                {name: dict(state) for name, state in resources["ExtGState"].items()},
            )
            if plain and added
            else None
        )

    image.draw = replayed
    image.lms_replayed = True
    return image
