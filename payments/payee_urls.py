"""The payees' pages (payee_views)."""

urlpatterns = []
