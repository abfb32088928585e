"""HTTP and websocket API of the liqmap server: query parameters, pipeline and one module per route."""
