#!/bin/bash
# The sandbox release whose timeline README.md shows (docs/timeline-example.png): piped into the
# terminal sandbox, which saves the picture relbot shares under relbot-demo-files/:
#   mkdir -p /tmp/example && docs/timeline-example.sh | build/relbot-sim --demo build/relbot --db /tmp/example/relbot-demo.db
# It takes about five minutes: the pauses make the blocked spans and phases visible.
s() { echo "$1"; sleep "${2:-1}"; }
sleep 8
s "/release start v2.4.0" 2
s "/release check 1.1 all green" 
s "/release check 1.2"
s "/release block 1.3 staging is down" 40
s "/release check 1.4"
s "/release check 1.5" 20
s "/release unblock 1.3"
s "/release check 1.3"
s "/release skip 1.6 no migrations this time"
s "/release check 1.7"
s "/release check 1.8"
s "/release check 1.9"
s "/release next" 30
s "/release check 2.1"
s "/release block 2.2 deploy pipeline stuck" 25
s "/release next force deployed by hand from the runbook" 30
s "/release note 3.1 error rate looks normal" 
s "/release rollback error rate doubled in eu-west; feature flag turned off" 30
s "/release next force verified after the flag change" 20
s "/release next force announcement sent" 20
s "/release next force on-call watches the dashboards" 15
s "/release finish force handed over" 15
s "quit" 5
