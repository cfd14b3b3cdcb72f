"""The Django project: settings from environment variables, URLs, middleware, the home
page and sign-in, base templates, CSS and error pages, template filters."""
