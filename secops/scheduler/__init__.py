"""Scheduled operation: schedules in our database, an APScheduler daemon running them, history, notices.

``service`` manages schedules and executions, ``jobs`` runs one execution of a schedule, ``daemon`` is
``secops scheduler run``, ``lock`` keeps it to one per database, ``notify`` sends e-mail and webhooks, and
``defaults`` derives the default timetable from the systems' levels.
"""
