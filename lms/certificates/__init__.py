"""Certificates: codes and the PDF document. Models, issuing and verification come later."""
