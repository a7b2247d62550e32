"""Sends OpenInference-shaped OTLP spans to a running Phoenix and prints what was sent, as JSON.

Traces: a CHAIN root with an LLM child and a TOOL child; every 4th tool fails; every 3rd LLM call has a
large (>2 kB, TOASTed) prompt; the tool span of each trace arrives in a second export, after its parents
were stored (Phoenix then updates the ancestors' cumulative counters).

usage: send_spans.py <otlp-http-endpoint> <project> <traces> <seed>
"""
import json
import random
import sys
import time

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode, set_span_in_context

endpoint, project, n_traces, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
provider = TracerProvider(resource=Resource.create({"openinference.project.name": project}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
tracer = provider.get_tracer("tracelake-test")
models = ["gpt-4o-mini", "claude-3-5-sonnet-20241022", "llama-3.1-70b"]
sent = []


def hexid(n, width):
    return format(n, "0%dx" % width)


def record(span, kind, parent, **extra):
    ctx = span.get_span_context()
    sent.append({"trace_id": hexid(ctx.trace_id, 32), "span_id": hexid(ctx.span_id, 16), "parent_span_id": parent,
                 "span_kind": kind, "name": span.name, **extra})


late = []
for i in range(n_traces):
    t0 = time.time_ns() - rng.randint(10, 100) * 1_000_000_000
    with tracer.start_as_current_span("agent", start_time=t0, end_on_exit=False) as root:
        root.set_attribute("openinference.span.kind", "CHAIN")
        question = "What is the weather in city #%d? It's \"sunny\" ☃" % i
        root.set_attribute("input.value", question)
        root.set_attribute("session.id", "session-%d" % (i % 3))
        root.set_attribute("user.id", "user-%d" % (i % 5))
        root_id = hexid(root.get_span_context().span_id, 16)
        model = models[i % len(models)]
        prompt = question if i % 3 else ("long context " * 300) + question
        p_tok, c_tok = rng.randint(20, 900), rng.randint(5, 300)
        llm = tracer.start_span("ChatCompletion", start_time=t0 + 1_000_000)
        llm.set_attribute("openinference.span.kind", "LLM")
        llm.set_attribute("llm.model_name", model)
        llm.set_attribute("llm.token_count.prompt", p_tok)
        llm.set_attribute("llm.token_count.completion", c_tok)
        llm.set_attribute("llm.token_count.total", p_tok + c_tok)
        llm.set_attribute("input.value", prompt)
        llm.set_attribute("output.value", "Answer %d 😀" % i)
        llm.set_attribute("metadata", json.dumps({"run": i, "env": "test"}))
        llm.set_status(Status(StatusCode.OK))
        llm.end(end_time=t0 + 1_000_000 + rng.randint(100, 2000) * 1_000_000)
        record(llm, "LLM", root_id, model=model, prompt_tokens=p_tok, completion_tokens=c_tok,
               input_text=prompt, output_text="Answer %d 😀" % i, status="OK")
        late.append((root, i, t0))
    root.end(end_time=t0 + 3_000_000_000)
    record(root, "CHAIN", None, input_text=question, status="UNSET")
provider.force_flush()
time.sleep(1)
for root, i, t0 in late:  # late-arriving children
    ctx = set_span_in_context(root)
    tool = tracer.start_span("get_weather", context=ctx, start_time=t0 + 2_100_000_000)
    tool.set_attribute("openinference.span.kind", "TOOL")
    tool.set_attribute("tool.name", "get_weather")
    failed = i % 4 == 0
    tool.set_status(Status(StatusCode.ERROR, "tool timed out") if failed else Status(StatusCode.OK))
    tool.end(end_time=t0 + 2_900_000_000)
    record(tool, "TOOL", hexid(root.get_span_context().span_id, 16), status="ERROR" if failed else "OK",
           error_message="tool timed out" if failed else None)
provider.force_flush()
provider.shutdown()
print(json.dumps(sent))
