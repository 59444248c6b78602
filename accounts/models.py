"""Database sessions that know their user (``accounts.sessions``)."""

from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class UserSession(AbstractBaseSession):
    user_id = models.BigIntegerField(null=True, db_index=True)

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore  # sessions imports this module

        return SessionStore

    class Meta:
        # The table keeps the name it had when the model lived in iap_portal (0005 there).
        db_table = "iap_portal_usersession"


class ResetRequest(models.Model):
    """A password-reset e-mail asked for: kept a day, to limit them per address and per
    account (``accounts.throttle``). The account is kept as a hash of its e-mail address."""

    at = models.DateTimeField(db_index=True)
    address = models.GenericIPAddressField(null=True)
    account = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["address", "at"], name="resetrequest_address"),
            models.Index(fields=["account", "at"], name="resetrequest_account"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.address or '-'}"
