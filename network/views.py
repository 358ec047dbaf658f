from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from partners.selectors import active_memberships_of


@login_required
def home(request):
    return render(request, "home.html", {"memberships": active_memberships_of(request.user)})
