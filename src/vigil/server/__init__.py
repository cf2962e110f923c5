"""The review console and its HTTP server: FastAPI, Jinja2 and htmx, served from the
package (no CDN, no bundler). `create_app(settings)` builds the app; `vigil serve`
runs it under uvicorn."""
