"""The floor for bench/intake_bench.py: what any Flask service on this stack pays per request.
Validate a JSON body, one INSERT, commit. Same database, same gunicorn settings as the real app.

    SOLIDARITY_DATABASE_URL=postgresql+psycopg://... gunicorn -w 2 bench.floor_app:app
"""
from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["SOLIDARITY_DATABASE_URL"], pool_pre_ping=True)
with engine.begin() as setup:
    setup.execute(text("CREATE TABLE IF NOT EXISTS floor_incidents (id VARCHAR(36) PRIMARY KEY, "
                       "body TEXT NOT NULL, created_at VARCHAR(40) NOT NULL)"))
app = Flask(__name__)


@app.post("/api/v1/incidents")
def file():
    body = request.get_json(silent=True)
    if (not isinstance(body, dict) or not isinstance(body.get("threat_type"), str)
            or not isinstance(body.get("severity"), int) or not isinstance(body.get("needs"), list)):
        return jsonify(error="threat_type, severity and needs are required"), 422
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO floor_incidents (id, body, created_at) VALUES (:id, :body, :at)"),
                     {"id": str(uuid.uuid4()), "body": json.dumps(body),
                      "at": datetime.now(timezone.utc).isoformat()})
    return jsonify(ok=True), 201
