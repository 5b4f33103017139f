"""selective_sync"""

from ui.auth import require_user

user = require_user()
