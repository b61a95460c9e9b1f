"""The analysts' web console (`farmwatch-collector console --listen ADDR`): server-rendered pages over
HTTPS beside `serve`, reading the same storage through the `Storage` seam.

- `access`: who is asking — an analyst certificate of our CA, or a trusted proxy's identity header;
- `tls`: uvicorn with client-certificate TLS, the peer certificate handed to each request;
- `app`: the routes, each audited; `pages`: what each page reads and shows;
- templates/ and static/: every asset ships in the package (no CDN: the console works offline).
"""
