"""The embedded runtime: `hrops up` / `down` / `status` for the dev server, workers and API."""
