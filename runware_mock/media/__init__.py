"""Media: input resolution and probing, ffmpeg rendering, and the store that serves files."""
