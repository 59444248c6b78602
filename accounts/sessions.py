"""Database sessions that know their user, so "log out everywhere" can end them all.

Django's documented way to extend the database session backend (AbstractBaseSession).

Sessions end after ``SESSION_COOKIE_AGE`` idle seconds. Rather than writing the session on
every request (``SESSION_SAVE_EVERY_REQUEST``, a write per page view), the store pushes the
expiry forward only when it was last pushed more than ``REFRESH_AFTER`` ago: one write a minute
per active user instead of one per request. Each refresh sets the expiry the age plus
``REFRESH_AFTER`` ahead, so an idle user is logged out after the full age at the earliest and
one ``REFRESH_AFTER`` later at the latest (the cookie itself ends with the browser).
"""

from datetime import timedelta

from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.utils import timezone

from .models import UserSession

REFRESH_AFTER = timedelta(seconds=60)


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls):
        return UserSession

    def _get_session_from_db(self):
        session = super()._get_session_from_db()
        self._stored_expiry = session.expire_date if session else None
        return session

    # SessionMiddleware saves the session when it is "modified": it also is when the stored
    # expiry is due to be pushed forward.
    @property
    def modified(self):
        return self._modified or self._refresh_due()

    @modified.setter
    def modified(self, value):
        self._modified = value

    def _refresh_due(self):
        stored = getattr(self, "_stored_expiry", None)
        if stored is None:
            return False
        return stored < self._next_expiry() - REFRESH_AFTER

    def _next_expiry(self):
        return timezone.now() + timedelta(seconds=self.get_session_cookie_age())

    def get_session_cookie_age(self):
        # The stored expiry lies REFRESH_AFTER beyond the age, so that a user active within
        # the last full age is never logged out between two refreshes.
        return super().get_session_cookie_age() + int(REFRESH_AFTER.total_seconds())

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        user_id = data.get("_auth_user_id")
        instance.user_id = int(user_id) if user_id and str(user_id).isdigit() else None
        return instance


def end_all_sessions(user):
    return UserSession.objects.filter(user_id=user.pk).delete()[0]
