"""The welcome e-mail of a new account: a link to set a password."""

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def send_welcome_email(*, user, request):
    """A link to set a password (the password-reset flow, with a welcome text)."""
    context = {
        "email": user.email,
        "domain": request.get_host(),
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": "https" if request.is_secure() else "http",
    }
    PasswordResetForm().send_mail(
        "registration/welcome_subject.txt",
        "registration/welcome_email.txt",
        context,
        None,
        user.email,
    )
