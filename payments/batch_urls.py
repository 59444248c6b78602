"""The payment batches' pages (views)."""

urlpatterns = []
