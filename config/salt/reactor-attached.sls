# /srv/reactor/pairkeeper/attached.sls — a node got its pair (volume and ENI
# attached; prepared too when the group has `prepare`). Accept its minion key
# (minions here are named by instance id) and bring it up with its node id.
{% set event = data['post'] %}
{% if event.get('type') == 'pair.attached' and event.get('instanceId', '').startswith('i-') %}
accept_{{ event['instanceId'] }}:
  wheel.key.accept:
    - args:
      - match: {{ event['instanceId'] }}

highstate_{{ event['instanceId'] }}:
  local.state.apply:
    - tgt: {{ event['instanceId'] }}
    - kwarg:
        pillar:
          node_id: {{ event['nodeId'] | json }}
          node_ip: {{ event.get('privateIp', '') | json }}
{% endif %}
