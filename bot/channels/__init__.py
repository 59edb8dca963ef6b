"""Channels: the terminal and Telegram. Each adapts the brain's replies to its medium."""
