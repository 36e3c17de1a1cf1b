#!/usr/bin/env python3
"""Benchmark inputs that tweetpipe's generator does not make, and the Kafka Connect peer's input.

  shapes.py small   < standard.jsonl > small.jsonl       the same tweets, slimmed to ~700 B lines
  shapes.py corpus DIR COUNT SEED > corpus.jsonl         COUNT stream lines shaped like the real v2
                                                         corpus in DIR (read in place), fresh ids
  shapes.py flatten TARGET < lines.jsonl > records.tsv   key<TAB>schema'd JSON row per tweet, for
                                                         Connect's JsonConverter; writes the row
                                                         count and the drain's end mark to TARGET
  shapes.py expect < lines.jsonl                         the rows tweetpipe stores from these lines:
                                                         their distinct ids, music left out

None of this is timed: it prepares input, like the generator.
"""

import copy
import glob
import json
import os
import random
import re
import sys
import unicodedata

SLIM_USER_KEYS = ("id", "name", "username", "verified", "location")
# Above 2^53, and apart from the generator's ids.
FIRST_ID = 1_700_000_000_000_000_000
RUNS = re.compile(r"[^\W_]+")


def small():
    """Drops what makes a real line heavy (annotations, media, quotes, mentions, user bios),
    keeping a realistic core: text, metrics, hashtags, its author."""
    for line in sys.stdin:
        msg = json.loads(line)
        data = msg["data"]
        for key in ("context_annotations", "attachments", "referenced_tweets", "edit_controls", "reply_settings"):
            data.pop(key, None)
        data.get("entities", {}).pop("mentions", None)
        author = data.get("author_id")
        users = [u for u in msg.get("includes", {}).get("users", []) if u.get("id") == author]
        msg["includes"] = {"users": [{k: u[k] for k in SLIM_USER_KEYS if k in u} for u in users]}
        sys.stdout.write(json.dumps(msg, ensure_ascii=False, separators=(",", ":")) + "\n")


def corpus_tweets(root):
    """Every tweet of the v2 pages and stream lines under root, as a stream line carrying only
    the includes it references (the shape the producer turns pages into)."""
    out = []
    for path in sorted(glob.glob(os.path.join(root, "v2", "**", "*.json*"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        docs = []
        try:
            docs = [json.loads(text)]
        except ValueError:
            for line in text.splitlines():
                try:
                    docs.append(json.loads(line))
                except ValueError:
                    continue
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            data = doc.get("data")
            tweets = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
            inc = doc.get("includes") or {}
            users = {u.get("id"): u for u in inc.get("users", []) if isinstance(u, dict)}
            refs = {t.get("id"): t for t in inc.get("tweets", []) if isinstance(t, dict)}
            for t in tweets:
                if not isinstance(t, dict) or "id" not in t or "text" not in t:
                    continue
                includes = {"users": [users[t["author_id"]]] if t.get("author_id") in users else []}
                quoted = [refs[r["id"]] for r in t.get("referenced_tweets", []) if r.get("id") in refs]
                if quoted:
                    includes["tweets"] = quoted
                out.append({"data": t, "includes": includes})
    return out


def corpus(root, count, seed):
    """COUNT lines cycling through the real tweets with fresh ids; 10% re-deliveries of a
    recent line with higher metrics, as in the synthetic input."""
    base = corpus_tweets(root)
    if not base:
        sys.exit(f"no v2 tweets under {root}")
    rng = random.Random(seed)
    recent = []
    for i in range(count):
        if recent and rng.random() < 0.1:
            msg = copy.deepcopy(rng.choice(recent))
            metrics = msg["data"].setdefault("public_metrics", {})
            metrics["like_count"] = metrics.get("like_count", 0) + rng.randint(1, 20)
        else:
            msg = copy.deepcopy(base[i % len(base)])
            msg["data"]["id"] = str(FIRST_ID + i)
            recent.append(msg)
            if len(recent) > 4096:
                recent.pop(0)
        sys.stdout.write(json.dumps(msg, ensure_ascii=False, separators=(",", ":")) + "\n")


def is_music(text, terms=("music",)):
    """tweetpipe's rule (README, "The music rule"), for the peer's input: NFKC, case-folded,
    maximal runs of letters and digits."""
    runs = RUNS.findall(unicodedata.normalize("NFKC", text).casefold())
    return any(t in runs for t in terms)


FIELDS = [
    ("id", "int64", False), ("author_id", "int64", True), ("username", "string", True),
    ("created_at", "string", True), ("text", "string", False), ("retweet_count", "int64", True),
    ("like_count", "int64", True), ("reply_count", "int64", True), ("quote_count", "int64", True),
    ("location", "string", True), ("lang", "string", True), ("hashtags", "array", True),
    ("is_retweet", "boolean", False), ("format", "string", False), ("raw", "string", False),
    ("seq", "int64", False),
]
SCHEMA = {
    "type": "struct", "name": "tweet", "optional": False,
    "fields": [
        {"field": n, "type": t, "optional": o, **({"items": {"type": "string"}} if t == "array" else {})}
        for n, t, o in FIELDS
    ],
}


def as_int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def texts(msg):
    """(the tweet's text, its retweet references), the text None when tweetpipe leaves the
    tweet out (music, by its own text or the text of the tweet it retweets)."""
    d = msg["data"]
    text = (d.get("note_tweet") or {}).get("text") or d["text"]
    refs = d.get("referenced_tweets") or []
    rt = [r for r in refs if r.get("type") == "retweeted"]
    rt_text = next((t.get("text") for t in (msg.get("includes") or {}).get("tweets", [])
                    if rt and t.get("id") == rt[0].get("id")), None)
    return (None if is_music(rt_text or text) else text), rt


def expect():
    """The rows tweetpipe stores from these lines: their distinct ids, music left out."""
    ids = set()
    for line in sys.stdin:
        msg = json.loads(line)
        if texts(msg)[0] is not None:
            ids.add(msg["data"]["id"])
    print(len(ids))


def flatten(target):
    """One schema'd JSON row per tweet (music left out, as tweetpipe leaves it out). Records
    keep the input's order, so the last copy of an id is the one an upsert keeps: the drain has
    ended when the table holds every id with its highest seq."""
    last_seq = {}
    for seq, line in enumerate(sys.stdin):
        msg = json.loads(line)
        d = msg["data"]
        text, rt = texts(msg)
        if text is None:
            continue
        author = next((u for u in (msg.get("includes") or {}).get("users", [])
                       if u.get("id") == d.get("author_id")), {})
        m = d.get("public_metrics") or {}
        row = {
            "id": int(d["id"]), "author_id": as_int(d.get("author_id")), "username": author.get("username"),
            "created_at": d.get("created_at"), "text": text, "retweet_count": as_int(m.get("retweet_count")),
            "like_count": as_int(m.get("like_count")), "reply_count": as_int(m.get("reply_count")),
            "quote_count": as_int(m.get("quote_count")), "location": author.get("location") or None,
            "lang": d.get("lang"),
            "hashtags": [h["tag"] for h in (d.get("entities") or {}).get("hashtags", []) if "tag" in h],
            "is_retweet": bool(rt), "format": "v2", "raw": line.rstrip("\n"), "seq": seq,
        }
        last_seq[row["id"]] = seq
        value = json.dumps({"schema": SCHEMA, "payload": row}, ensure_ascii=False, separators=(",", ":"))
        sys.stdout.write(f"{row['id']}\t{value}\n")
    with open(target, "w", encoding="utf-8") as f:
        f.write(f"{len(last_seq)} {sum(last_seq.values())}\n")


def main(argv):
    if len(argv) >= 2 and argv[1] == "small":
        small()
    elif len(argv) == 5 and argv[1] == "corpus":
        corpus(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 3 and argv[1] == "flatten":
        flatten(argv[2])
    elif len(argv) == 2 and argv[1] == "expect":
        expect()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
