"""Reports for managers, IT staff and the response team: data builders (one module per report), jinja2
templates from the shipped ``reports/`` directory, and formatters (html, pdf, json, csv) behind one interface."""
