from . import batch_urls, payee_urls

urlpatterns = payee_urls.urlpatterns + batch_urls.urlpatterns
