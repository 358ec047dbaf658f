import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import NOTE_MAX_LENGTH, Note


class NoteForm(forms.Form):
    """The plain-HTML note form; the page's script sends the same fields over the WebSocket.

    ``client_id`` is fresh on every render, so a form submitted twice creates one note.
    """

    body = forms.CharField(label=_("Votre note"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(
        label=_("Visible par"),
        choices=Note.Visibility.choices,
        initial=Note.Visibility.SHARED,
        widget=forms.RadioSelect,
    )
    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["client_id"] = uuid.uuid4()


class SharedNoteForm(NoteForm):
    """The note form of a signed link's page: shared notes only (``lifecycle.Side.by_link``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["visibility"]
