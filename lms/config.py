"""Default configuration.

Order of precedence (last wins): these defaults, ``instance/config.py``, ``LMS_*``
environment variables (``LMS_DATABASE_URL`` -> ``DATABASE_URL``; values are parsed as JSON
when they can be), then the mapping given to ``create_app`` (tests).
"""

# "development" or "production". Production refuses to start without an explicit SECRET_KEY.
ENV = "development"

# None: generated once into instance/secret_key (mode 0600) outside production.
SECRET_KEY = None

# None: SQLite at instance/lms.sqlite3. PostgreSQL: postgresql+psycopg://user:pass@host/db
DATABASE_URL = None
# How long a request waits for SQLite's write lock before the user is asked to try again
# (503), and how long the worker and the CLI wait. Reads never wait (WAL, deferred BEGIN).
SQLITE_BUSY_TIMEOUT_MS = 4_000
SQLITE_WORKER_BUSY_TIMEOUT_MS = 30_000
SQLALCHEMY_ENGINE_OPTIONS: dict = {}

# Languages and time.
LANGUAGES = ("fr", "ar", "en")
RTL_LANGUAGES = ("ar",)
BABEL_DEFAULT_LOCALE = "fr"
BABEL_DEFAULT_TIMEZONE = "Africa/Casablanca"
DEFAULT_PHONE_REGION = "MA"

# The programme: children's ages every course must fit in, and where the lab is.
PROGRAMME_MIN_AGE = 7
PROGRAMME_MAX_AGE = 14
DEFAULT_SITE = "Technopark de Tanger"
# The lab's legal identity, printed on every receipt (ICE: identifiant commun de l'entreprise,
# IF: identifiant fiscal, RC: registre du commerce). The defaults are the demo's placeholders:
# an installation sets its own (README, Configuration).
LAB_LEGAL_NAME = "Active Labs SARL"
LAB_ADDRESS = "Technopark de Tanger, route de Tétouan, 90000 Tanger"
LAB_ICE = "000000000000000"
LAB_IF = "00000000"
LAB_RC = "Tanger 000000"

# Accounts and security.
PRIVACY_NOTICE_VERSION = "2026-09"
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
# Argon2id, OWASP's minimum configuration (19 MiB, 2 iterations, 1 lane).
ARGON2_TIME_COST = 2
ARGON2_MEMORY_COST_KIB = 19_456
ARGON2_PARALLELISM = 1
PASSWORD_RESET_MAX_AGE = 3600  # seconds
ACCOUNT_SETUP_MAX_AGE = 7 * 24 * 3600  # staff "set your password" links
EMAIL_CONFIRM_MAX_AGE = 3 * 24 * 3600  # links that confirm an e-mail address
REMEMBER_COOKIE_DURATION = 30 * 24 * 3600
# None: Secure cookies everywhere except in debug mode and in tests.
SESSION_COOKIE_SECURE = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
MAX_CONTENT_LENGTH = 5 * 1024 * 1024

# Rate limits (Flask-Limiter). Use a shared storage such as redis://host:6379/0 when several
# workers or servers run the app.
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = True
# Logins: a flood guard per address (forty families may log in at 9:00 from one lab's Wi-Fi),
# then the throttle of wrong passwords (lms/accounts/throttle.py): per account and address,
# LOGIN_FREE_FAILURES_PER_ACCOUNT free, then waits of 30 s, 60 s, 120 s... at most 15 minutes;
# per address across accounts, LOGIN_FREE_FAILURES_PER_ADDRESS free; counted over an hour.
LOGIN_LIMIT_PER_IP = "300 per minute; 3000 per hour"
LOGIN_FREE_FAILURES_PER_ACCOUNT = 5
LOGIN_FREE_FAILURES_PER_ADDRESS = 100
LOGIN_FIRST_DELAY_SECONDS = 30
LOGIN_MAX_DELAY_SECONDS = 15 * 60
LOGIN_FAILURE_WINDOW_SECONDS = 3600
RESET_LIMIT_PER_IP = "5 per minute; 30 per hour"
RESET_LIMIT_PER_ACCOUNT = "3 per hour"
# Sign-ups: forty families behind one lab's Wi-Fi share an address, so the per-address limit
# is high; abuse is held by the per-address-typed limit and by the confirmation link.
REGISTER_LIMIT_PER_IP = "300 per hour"
REGISTER_LIMIT_PER_EMAIL = "5 per hour"
CONFIRM_RESEND_LIMIT = "5 per hour"  # new confirmation links one account may ask for

# Mail. MAIL_BACKEND "log" appends every message to instance/mail.log; "smtp" sends them.
MAIL_BACKEND = "log"
MAIL_LOG_PATH = None  # None: instance/mail.log
MAIL_DEFAULT_SENDER = "Active Labs <noreply@activelabs.ma>"
MAIL_SERVER = "localhost"
MAIL_PORT = 587
MAIL_USE_TLS = True
MAIL_USE_SSL = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_TIMEOUT = 20
# Also deliver the outbox right after a request commits, in a thread of the web process. Off:
# the worker (`flask lms worker`) delivers within WORKER_OUTBOX_SECONDS and retries failures;
# on only where no worker runs (the browser tests' server).
MAIL_DELIVER_AFTER_COMMIT = False
MAIL_MAX_ATTEMPTS = 8

# WhatsApp (Business Cloud API) and SMS (a Twilio-compatible REST API). A channel is live when
# its token is set; otherwise its messages are appended to instance/mail.log like e-mails.
WHATSAPP_API_URL = "https://graph.facebook.com/v21.0"
WHATSAPP_PHONE_NUMBER_ID = None
WHATSAPP_TOKEN = None
WHATSAPP_APP_SECRET = None  # signs the webhook's POSTs (X-Hub-Signature-256)
WHATSAPP_VERIFY_TOKEN = None  # answered back in Meta's GET verification handshake
WHATSAPP_TEMPLATE_PREFIX = "lms_"  # template names as registered with Meta: lms_lesson_cancelled
# A WhatsApp (or SMS) message not reported delivered (status webhook) this long after it left
# goes by the next channel the family allows: SMS, else e-mail.
WHATSAPP_DELIVERY_TIMEOUT_SECONDS = 15 * 60
SMS_API_URL = "https://api.twilio.com"
SMS_ACCOUNT_SID = None
SMS_AUTH_TOKEN = None
SMS_FROM = None
# Providers' rate limits: messages per second and channel, held by each worker.
WHATSAPP_RATE_PER_SECOND = 20
SMS_RATE_PER_SECOND = 1
MESSAGE_TIMEOUT = 20  # seconds for one call to a provider
# The text of the opt-in a parent agrees to on the contact page, recorded with each consent.
CONTACT_NOTICE_VERSION = "2026-12"

# The worker's schedule, in seconds: outbox delivery, seat offers past their deadline (and a
# check of the seat counts), retention rules.
WORKER_OUTBOX_SECONDS = 2
WORKER_OFFERS_SECONDS = 60
WORKER_PURGE_SECONDS = 24 * 3600
WORKER_REMINDERS_SECONDS = 3600  # fee reminders (each step once per enrolment and day)

# The public address of the app, used in e-mails sent by the CLI worker (outside a request).
BASE_URL = "http://127.0.0.1:5000"

# Logs: "text" for development, "json" (one object per line) for production log collectors.
LOG_FORMAT = "text"
LOG_LEVEL = "INFO"
# Families and safeguarding.
CHILD_MIN_AGE = 4  # years, on the day the date of birth is entered
CHILD_MAX_AGE = 18
HEALTH_NOTICE_VERSION = "2026-09"  # the health-data consent text parents agree to
PHOTO_NOTICE_VERSION = "2026-09"  # the photo and media consent text
ID_PHOTO_NOTICE_VERSION = "2026-12"  # the text of the photo on the register
INVITATION_MAX_AGE = 7 * 24 * 3600  # seconds a co-parent invitation link stays valid
GUARDIAN_INVITE_LIMIT = "10 per hour; 30 per day"  # invitation e-mails one parent may send
# An instructor sees a child's safeguarding data from the enrolment until this many days
# after the cohort ends.
INSTRUCTOR_ACCESS_DAYS_AFTER_COHORT = 30
# `flask lms purge`: medical notes and emergency data go this long after a child's last cohort
# ended; parent accounts unused this long are closed, after an e-mail notice.
RETENTION_MONTHS_AFTER_LAST_COHORT = 12
INACTIVE_ACCOUNT_MONTHS = 36
ACCOUNT_CLOSURE_NOTICE_DAYS = 30
# Incident and first-aid records are deleted this long after the incident: five years, the
# time within which a family can claim damages in Morocco (Dahir des obligations et contrats,
# art. 106), so that the lab can still answer the family or its insurer until then.
INCIDENT_RETENTION_MONTHS = 60
# Enrolment. A seat freed by a withdrawal is offered to the first child on the waiting list,
# held for that family until a deadline: OFFER_HOURS, but never more than half the time left
# before the group's next lesson, and never less than OFFER_MIN_HOURS (so a seat freed the
# evening before a lesson is still held overnight).
OFFER_HOURS = 48
OFFER_MIN_HOURS = 12
# Sibling discount, in percent of the course price, for every child of a family but the first
# enrolled in the same term (see lms/enrolment/fees.py).
SIBLING_DISCOUNT_PERCENT = 10
# Card payments through CMI's hosted page (see lms/enrolment/card_payments.py). CMI_MODE
# "local" (the default) uses a page inside the app that plays the gateway, signed with a
# development key, so the whole flow works without an account; "test" points at CMI's test
# gateway and "production" at the real one, both with the client id and store key CMI gives
# (LMS_CMI_CLIENT_ID, LMS_CMI_STORE_KEY; never committed). CMI_GATEWAY_URL overrides the
# mode's address.
CMI_MODE = "local"
CMI_GATEWAY_URL = None
CMI_CLIENT_ID = None
CMI_STORE_KEY = None
# Reminders of unpaid fees (lms/enrolment/reminders.py): the steps, each "name:days", among
# after_enrolment (days after the seat was taken), before_start (days before the first
# lesson) and after_start (days after it). Empty: no reminder.
FEE_REMINDER_DAYS = "after_enrolment:3,before_start:2,after_start:3"
# Bank transfers: the account families pay into, shown with their transfer reference.
LAB_BANK_NAME = "Banque Populaire, agence Technopark Tanger"
LAB_RIB = "181 640 21211 12345678901 23"  # a placeholder: set LMS_LAB_RIB to the lab's RIB
LAB_ACCOUNT_HOLDER = "Active Labs SARL"

# Certificates: public verification is throttled per address against enumeration.
VERIFY_LIMIT_PER_IP = "30 per minute; 300 per hour"
