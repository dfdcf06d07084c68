# /srv/reactor/pairkeeper/released.sls — the instance is gone and its pair free:
# forget its minion key (what the ec2-autoscale reactor did on terminate).
#
# As in attached.sls: the instance id must be exactly an EC2 id (key.delete takes
# a glob: `i-*` would delete every instance's key), and it is written quoted.
{% set event = data['post'] %}
{% set instance_id = event.get('instanceId') if event is mapping else none %}
{% if event is mapping and event.get('type') == 'pair.released'
      and instance_id is string and instance_id is match('^i-[0-9a-f]{8,17}\\Z') %}
delete_{{ instance_id }}:
  wheel.key.delete:
    - args:
      - match: {{ instance_id | json }}
{% endif %}
