"""Schedules: events in time, their invitations and answers, the calendar feed."""
