"""Chat channels: the web console, Slack, Feishu and generic webhooks in; the outbox out.

`assistant_port` is what the assistant plugs into; `hub` is what every channel shares (take a
message in once, find who sent it, answer, record Approve/Reject); `slack`, `feishu` and
`webhook` check and translate each platform's format; `routes` mounts them under `/channels`;
`delivery` sends the outbox. See docs/channels.md.
"""
