"""E-mails about accounts: the link to set a password, and sending from templates."""

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def password_link_context(*, user, request):
    """What the password-reset link needs in an e-mail template."""
    return {
        "email": user.email,
        "domain": request.get_host(),
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": "https" if request.is_secure() else "http",
    }


def send_mail(*, subject_template, body_template, context, to):
    """One e-mail from templates (Django's reset form does the rendering and sending)."""
    PasswordResetForm().send_mail(subject_template, body_template, context, None, to)
