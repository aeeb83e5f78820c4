"""Telegram channels: aiogram and python-telegram-bot adapters over the same engine."""
