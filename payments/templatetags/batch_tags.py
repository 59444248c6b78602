from django import template

from payments.iban import format_iban, mask_iban

register = template.Library()


@register.filter
def masked_iban(value):
    """``LV** **** **** **** *1234``: the school's pages (the payer sees it in full)."""
    return mask_iban(value)


@register.filter
def full_iban(value):
    """The whole IBAN in groups of four: for the payer only."""
    return format_iban(value)
