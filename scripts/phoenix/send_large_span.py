"""Sends one OpenInference LLM span whose prompt carries an image data URL and a long text context to a running
Phoenix (OTLP/HTTP), and prints the ids and the length and SHA-256 of each large value, as JSON.

The span holds the prompt twice, as Phoenix's instrumentations write it: input.value (the request as JSON
text) and the message list (llm.input_messages.*: a text part and an image part).

usage: send_large_span.py <otlp-http-endpoint> <project> <image-bytes> <text-bytes>
"""
import base64
import hashlib
import json
import os
import sys

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

endpoint, project, image_bytes, text_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
provider = TracerProvider(resource=Resource.create({"openinference.project.name": project}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=120)))
tracer = provider.get_tracer("tracelake-test")

prefix = "data:image/png;base64,"
image_url = prefix + base64.b64encode(os.urandom((image_bytes - len(prefix)) * 3 // 4)).decode()
words = ["context", "it's", '"quoted"', "back\\slash", "${interp}", "emoji 😀", "rtl \u200f", "{\"k\": \"v\"}"]
parts, size, i = [], 0, 0
while size < text_bytes:
    w = "%s %d " % (words[i % len(words)], i)
    parts.append(w)
    size += len(w.encode())
    i += 1
context = "".join(parts)
request = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": [
    {"type": "text", "text": context}, {"type": "image_url", "image_url": {"url": image_url}}]}]}, ensure_ascii=False)

span = tracer.start_span("ChatCompletion")
span.set_attribute("openinference.span.kind", "LLM")
span.set_attribute("llm.model_name", "gpt-4o")
span.set_attribute("llm.token_count.prompt", 250000)
span.set_attribute("llm.token_count.completion", 12)
span.set_attribute("input.value", request)
span.set_attribute("input.mime_type", "application/json")
span.set_attribute("llm.input_messages.0.message.role", "user")
span.set_attribute("llm.input_messages.0.message.contents.0.message_content.type", "text")
span.set_attribute("llm.input_messages.0.message.contents.0.message_content.text", context)
span.set_attribute("llm.input_messages.0.message.contents.1.message_content.type", "image")
span.set_attribute("llm.input_messages.0.message.contents.1.message_content.image.image.url", image_url)
span.set_attribute("output.value", "A chart of latencies.")
span.set_status(Status(StatusCode.OK))
span.end()
provider.force_flush()
provider.shutdown()


def digest(s):
    b = s.encode()
    return {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}


ctx = span.get_span_context()
print(json.dumps({"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x"),
                  "input": digest(request), "image_url": digest(image_url), "context": digest(context)}))
