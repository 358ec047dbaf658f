"""Forms of the messaging pages: the e-mail preferences. The note forms belong to the referral
page (``referrals.forms.NoteForm``, ``SharedNoteForm``)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EMAIL_KIND_CHOICES
from .selectors import email_kinds_of, email_preferences_of


class EmailPreferencesForm(forms.Form):
    """The e-mail preferences as checkboxes: one per kind ``user`` may turn off
    (``selectors.email_kinds_of``), ticked when they get it. A kind left unticked is turned off."""

    kinds = forms.MultipleChoiceField(
        label=_("Recevoir un e-mail pour"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("La notification reste visible ici, que l'e-mail soit envoyé ou non."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(EMAIL_KIND_CHOICES)
        self.offered = email_kinds_of(user)
        self.fields["kinds"].choices = [(kind, labels[kind]) for kind in self.offered]
        if not self.is_bound:
            preferences = email_preferences_of(user, kinds=self.offered)
            self.initial["kinds"] = [kind for kind, enabled in preferences.items() if enabled]

    def preferences(self) -> dict[str, bool]:
        """{kind: whether it is e-mailed} for every kind offered, from the ticked boxes."""
        ticked = set(self.cleaned_data["kinds"])
        return {kind: kind in ticked for kind in self.offered}
