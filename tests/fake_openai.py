"""A local OpenAI-compatible endpoint for provider tests: records requests, answers with a tool call
(and `/v1/embeddings` with the vectors an `embed` function gives)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def fake_openai(
    answer: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]],
    embed: Callable[[str], list[float]] | None = None,
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Serve /v1/chat/completions; every call returns `answer` (or what it returns for the request
    body) as the output tool's arguments. With `embed`, /v1/embeddings returns `embed(text)` per input."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server API
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            if self.path.endswith("/embeddings") and embed is not None:
                inputs = [body["input"]] if isinstance(body["input"], str) else body["input"]
                reply: dict[str, Any] = {
                    "object": "list",
                    "model": body["model"],
                    "data": [
                        {"object": "embedding", "index": i, "embedding": embed(text)}
                        for i, text in enumerate(inputs)
                    ],
                    "usage": {"prompt_tokens": sum(len(t.split()) for t in inputs), "total_tokens": 0},
                }
                return self._reply(reply)
            tool = body["tools"][0]["function"]["name"]
            reply = {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {
                                    "id": "call_1",
                                    "type": "function",
                                    "function": {
                                        "name": tool,
                                        "arguments": json.dumps(answer(body) if callable(answer) else answer),
                                    },
                                }
                            ],
                        },
                    }
                ],
                "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
            }
            self._reply(reply)

        def _reply(self, reply: dict[str, Any]) -> None:
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
