"""The Telegram channel: python-telegram-bot's Application around the brain.

Modules: ``app`` (build and run), ``handlers`` (chats and groups), ``inline`` (inline mode),
``keyboards`` (reply buttons and callback data), ``runtime`` (shared services and sending),
``logs`` (logging with the token masked), ``heartbeat`` (for ``asem-bot health``). This
package imports nothing itself, so ``asem-bot health`` stays fast.
"""
