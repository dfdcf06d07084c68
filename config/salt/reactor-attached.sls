# /srv/reactor/pairkeeper/attached.sls — a node got its pair (volume and ENI
# attached; prepared too when the group has `prepare`). Accept its minion key
# (minions here are named by instance id) and bring it up with its node id.
#
# The body is whatever reached salt-api's hook, so nothing in it is trusted:
# the instance id must be exactly an EC2 id before it goes anywhere, because
# key.accept and a target take globs (`i-*` would accept every pending key and
# highstate them all as this node). `\Z` (`\\Z` in a Jinja string), not `$`:
# in Python's re, `$` also matches before a trailing newline. Every value is
# written quoted (| json).
{% set event = data['post'] %}
{% set instance_id = event.get('instanceId') if event is mapping else none %}
{% if event is mapping and event.get('type') == 'pair.attached'
      and instance_id is string and instance_id is match('^i-[0-9a-f]{8,17}\\Z')
      and event.get('nodeId') is string %}
{% set node_ip = event.get('privateIp') if event.get('privateIp') is string else '' %}
accept_{{ instance_id }}:
  wheel.key.accept:
    - args:
      - match: {{ instance_id | json }}

highstate_{{ instance_id }}:
  local.state.apply:
    - tgt: {{ instance_id | json }}
    - kwarg:
        pillar:
          node_id: {{ event.get('nodeId') | json }}
          node_ip: {{ node_ip | json }}
{% endif %}
