"""What the bot shows and says on chat platforms, platform-neutral: cards, notices, reactions."""
