"""The forms of an HTML page (the OAuth server's sign-in and consent pages), as a browser
would submit them."""

from __future__ import annotations

import html.parser


class FormParser(html.parser.HTMLParser):
    """Every form of a page: its method, action and input fields, in page order."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"method": attrs.get("method", "get").lower(),
                               "action": attrs.get("action"), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")
