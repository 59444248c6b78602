"""What this app learns from the apps above it, without importing them: each hook is filled
in the higher app's ``AppConfig.ready()`` (docs/architecture.md)."""

from iap_portal.registry import Hook, Registry

# plans: the pupils whose running support measures are assigned to this specialist (a queryset
# of pupil ids), and the rows "who can see this pupil" that such measures add.
specialist_pupil_ids = Hook("specialist_pupil_ids")
specialists_who_see = Hook("specialists_who_see", default=lambda student: [])

# Sections of the pupil's page that other apps add: name -> function(request, student) giving
# template context (plans: the pupil's plans and whether the user may prepare one).
pupil_page = Registry("pupil_page")
