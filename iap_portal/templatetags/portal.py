from django import template

from iap_portal.users import display_name as _display_name

register = template.Library()


@register.filter
def display_name(user):
    return _display_name(user)
