"""How a person is named on pages, PDFs and in the audit log."""

from django.utils.translation import gettext as _


def display_name(user):
    """Full name, else the username; "system" for work nobody did by hand."""
    if user is None:
        return _("system")
    return user.get_full_name() or user.get_username()
