"""What this app learns from the apps above it, without importing them (filled in their
``AppConfig.ready()``; docs/architecture.md)."""

from iap_portal.registry import Registry

# Sections that other apps add to the claim page: name -> function(request, claim) giving the
# section's context with its "template", or None when this user sees no such section
# (payments: whom the claim is paid to, and choosing it).
claim_page = Registry("claim_page")
