"""One router per resource: health, analyze, feedback, metrics (+ drivers), alerts, taxonomy."""
