# /srv/reactor/pairkeeper/released.sls — the instance is gone and its pair free:
# forget its minion key (what the ec2-autoscale reactor did on terminate).
{% set event = data['post'] %}
{% if event.get('type') == 'pair.released' and event.get('instanceId', '').startswith('i-') %}
delete_{{ event['instanceId'] }}:
  wheel.key.delete:
    - args:
      - match: {{ event['instanceId'] }}
{% endif %}
