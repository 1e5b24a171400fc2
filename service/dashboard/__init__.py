"""The analyst dashboard: a server-rendered sub-app at /dashboard behind one login dependency.

    mount.py        mount_dashboard(app, settings): the sub-app, its error pages and security headers
    web.py          login dependency (CurrentViewer), CSRF + Origin check (PostingViewer), admin-only, render
    routes_*.py     login/logout, queue (+ merge), case page and actions, campaign/rules/stats/audit pages
    sessions.py     server-side sessions (only a hash of the cookie is stored), idle timeout
    ratelimit.py    login limit per name and per address, counted in the database (shared by every process)
    queue.py        the review queue: filters, order (lane, SLA left, level, age), lane counts, similar cases
    message.py      a report's text rebuilt as the rules saw it, cut into evidence-highlighted segments
    charts.py       SVG chart geometry; stats.py, rulesview.py, campaignview.py gather each page's figures

Every template is autoescaped and none marks reported content safe; the one script is static (no inline code).
"""
