"""The bot's vocabulary, declared once, between the knowledge base and what uses it.

- :mod:`bot.domain.kinds`: every kind of thing a question can name (a meeting, a partner, a
  city, a year...): its slot in the example phrasings, where its names come from, whether it
  is what a question is about or a detail, how it is checked and shown, its card and its
  deep-link prefix. Understanding, the brain, actions and answers derive their tables here.
- :mod:`bot.domain.topics`: the menu topics (About ASEM, Summits...) with their deep links
  and Telegram commands.

Meeting series (summits, FMMs, Economic Ministers' Meetings...) are data in
``knowledge/meetings.yaml``; intents are declared by their composers in :mod:`bot.answers`.
"""
