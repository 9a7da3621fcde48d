"""Start moto's server with Auto Scaling lifecycle-action calls filled in.

moto 5.2.5 answers Auto Scaling CompleteLifecycleAction and
RecordLifecycleActionHeartbeat with HTTP 500 ("not implemented"). nthd calls
both, so this launcher registers them on moto's own Auto Scaling response
class before the server starts. They validate against moto's state (the group
exists, the hook exists on that group, the instance belongs to the group) and
against the lifecycle actions that are in progress, and answer AWS-shaped
ValidationError responses otherwise, as AWS does.

moto never puts an instance into a lifecycle wait state by itself (it emits no
events), so a test opens a lifecycle action explicitly, the way AWS would when
it starts terminating an instance that has a hook:

  POST /moto-api/lifecycle-actions
       {"AutoScalingGroupName", "LifecycleHookName", "InstanceId",
        "LifecycleActionToken"?}            -> 200 {the action, with its token}
  GET  /moto-api/lifecycle-actions          -> 200 {"actions": [...], "calls": [...]}

Every CompleteLifecycleAction / RecordLifecycleActionHeartbeat call, accepted
or rejected, is recorded in "calls" (and appended as one JSON line to the file
named by NTHD_MOTO_CALL_LOG when set). POST /moto-api/reset clears it all
together with moto's own state.

It also fixes a race and a slow path in moto's SQS queue (see
_delete_message_locked and _within_retention_period).

Usage: python launcher.py [HOST] PORT   (HOST must be a loopback address; default 127.0.0.1)
"""

import json
import os
import sys
import threading
import time
import uuid

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import autoscaling_backends
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import EmptyResult
from moto.moto_api._internal import urls as moto_api_urls
from moto.moto_api._internal.models import moto_api_backend
from moto.core.utils import unix_time, unix_time_millis
from moto.sqs.models import Queue, SQSBackend

_lock = threading.Lock()
# (account, region) -> {token: action dict}
_actions: dict[tuple[str, str], dict[str, dict]] = {}
_calls: list[dict] = []
_log_path = os.environ.get("NTHD_MOTO_CALL_LOG", "")

_RESULTS = ("CONTINUE", "ABANDON")


def _now() -> str:
    """UTC with milliseconds, so calls made within one second keep their order."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def _group(backend, name: str | None):
    if not name:
        raise ValidationError("1 validation error detected: AutoScalingGroupName is required")
    group = backend.autoscaling_groups.get(name)
    if group is None:
        raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup {name} not found")
    return group


def _hook(backend, group_name: str, hook_name: str | None):
    if not hook_name:
        raise ValidationError("1 validation error detected: LifecycleHookName is required")
    hook = backend.lifecycle_hooks.get(f"{group_name}_{hook_name}")
    if hook is None:
        raise ValidationError(
            f"No Lifecycle Hook found with name {hook_name} for group {group_name}"
        )
    return hook


def _find_active(key, group: str, hook: str, token: str | None, instance_id: str | None) -> dict:
    """The in-progress action the call names, by token or else by instance."""
    actions = _actions.get(key, {})
    if token:
        action = actions.get(token)
        if (
            action is None
            or action["State"] != "Pending"
            or action["AutoScalingGroupName"] != group
            or action["LifecycleHookName"] != hook
            or (instance_id and action["InstanceId"] != instance_id)
        ):
            raise ValidationError(f"No active Lifecycle Action found with token {token}")
        return action
    if not instance_id:
        raise ValidationError(
            "Either LifecycleActionToken or InstanceId must be provided"
        )
    for action in actions.values():
        if (
            action["State"] == "Pending"
            and action["InstanceId"] == instance_id
            and action["AutoScalingGroupName"] == group
            and action["LifecycleHookName"] == hook
        ):
            return action
    raise ValidationError(f"No active Lifecycle Action found with instance ID {instance_id}")


def _record(entry: dict) -> None:
    _calls.append(entry)
    if _log_path:
        with open(_log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def _handle(response: AutoScalingResponse, operation: str):
    params = {
        "AutoScalingGroupName": response._get_param("AutoScalingGroupName"),
        "LifecycleHookName": response._get_param("LifecycleHookName"),
        "LifecycleActionToken": response._get_param("LifecycleActionToken"),
        "InstanceId": response._get_param("InstanceId"),
    }
    if operation == "CompleteLifecycleAction":
        params["LifecycleActionResult"] = response._get_param("LifecycleActionResult")
    entry = {
        "Operation": operation,
        "Time": _now(),
        "Account": response.current_account,
        "Region": response.region,
        **{k: v for k, v in params.items() if v is not None},
    }
    key = (response.current_account, response.region)
    with _lock:
        try:
            backend = response.autoscaling_backend
            group = _group(backend, params["AutoScalingGroupName"])
            _hook(backend, group.name, params["LifecycleHookName"])
            if operation == "CompleteLifecycleAction" and params["LifecycleActionResult"] not in _RESULTS:
                raise ValidationError(
                    "1 validation error detected: LifecycleActionResult must be CONTINUE or ABANDON"
                )
            action = _find_active(
                key,
                group.name,
                params["LifecycleHookName"],
                params["LifecycleActionToken"],
                params["InstanceId"],
            )
            if operation == "CompleteLifecycleAction":
                action["State"] = "Completed"
                action["Result"] = params["LifecycleActionResult"]
                action["CompletedAt"] = entry["Time"]
            else:
                action["Heartbeats"] += 1
            entry["Outcome"] = "ok"
            entry["InstanceId"] = action["InstanceId"]
        except ValidationError as err:
            entry["Outcome"] = "error"
            entry["ErrorCode"] = err.code
            entry["ErrorMessage"] = err.message
            _record(entry)
            raise
        _record(entry)
    return EmptyResult()


def complete_lifecycle_action(self):
    return _handle(self, "CompleteLifecycleAction")


def record_lifecycle_action_heartbeat(self):
    return _handle(self, "RecordLifecycleActionHeartbeat")


# moto dispatches an action to the response method named after it in snake case.
AutoScalingResponse.complete_lifecycle_action = complete_lifecycle_action
AutoScalingResponse.record_lifecycle_action_heartbeat = record_lifecycle_action_heartbeat


def _json(status: int, body) -> tuple:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def lifecycle_actions(request, full_url, headers):
    """Open an action (POST) or read actions and recorded calls (GET)."""
    if request.method == "GET":
        with _lock:
            actions = [a for per_region in _actions.values() for a in per_region.values()]
            return _json(200, {"actions": actions, "calls": list(_calls)})
    if request.method != "POST":
        return _json(405, {"Error": "use GET or POST"})
    try:
        body = json.loads(request.data or b"{}")
        account = body.get("Account", "123456789012")
        region = body.get("Region", "us-east-1")
        backend = autoscaling_backends[account][region]
        with _lock:
            group = _group(backend, body.get("AutoScalingGroupName"))
            hook = _hook(backend, group.name, body.get("LifecycleHookName"))
            instance_id = body.get("InstanceId")
            members = {state.instance_id for state in group.instance_states}
            if instance_id not in members:
                raise ValidationError(
                    f"Instance {instance_id} is not part of Auto Scaling group {group.name}"
                )
            token = body.get("LifecycleActionToken") or str(uuid.uuid4())
            action = {
                "Account": account,
                "Region": region,
                "AutoScalingGroupName": group.name,
                "LifecycleHookName": hook.name,
                "LifecycleTransition": hook.lifecycle_transition,
                "HeartbeatTimeout": hook.heartbeat_timeout,
                "InstanceId": instance_id,
                "LifecycleActionToken": token,
                "State": "Pending",
                "Heartbeats": 0,
                "StartedAt": _now(),
            }
            _actions.setdefault((account, region), {})[token] = action
            return _json(200, action)
    except ValidationError as err:
        return _json(400, {"Error": {"Code": err.code, "Message": err.message}})
    except (ValueError, KeyError) as err:
        return _json(400, {"Error": {"Code": "BadRequest", "Message": str(err)}})


moto_api_urls.url_paths["{0}/moto-api/lifecycle-actions"] = lifecycle_actions

_original_reset = moto_api_backend.reset


def _reset() -> None:
    _original_reset()
    with _lock:
        _actions.clear()
        _calls.clear()


moto_api_backend.reset = _reset


# moto 5.2.5 SQS loses messages under concurrency: Queue.delete_message
# rebuilds the message list without the lock that Queue.add_message takes, so
# a message sent while another is being deleted can vanish (one of 1,000 in a
# mass-interruption run). Real SQS never loses a sent message, so the peer
# takes the queue's own lock for deletes too.
_original_sqs_delete = Queue.delete_message


def _delete_message_locked(self, receipt_handle: str) -> None:
    with self._messages_lock:
        _original_sqs_delete(self, receipt_handle)


Queue.delete_message = _delete_message_locked


# moto 5.2.5 checks each received message's retention period by computing
# every attribute of its queue, three of which scan all the queue's messages:
# a ReceiveMessage of 10 from a queue of 1,000 took about a second of CPU, so
# the peer, not the consumer, set the pace of a mass interruption. The check
# reads the one attribute it needs.
def _within_retention_period(self, queue_name: str, message) -> bool:
    queue = self.get_queue(queue_name)
    return int(queue.message_retention_period) + message.sent_timestamp / 1000 > unix_time()


SQSBackend.is_message_valid_based_on_retention_period = _within_retention_period


# The same scans, and every SendMessage (which reads all its queue's
# attributes), ask the clock twice per message through a datetime round trip.
# One reading per scan gives the same answers (visible: now > visible_at;
# delayed: now < delayed_until) at a fraction of the cost.
def _visible_messages(self):
    now = unix_time_millis()
    return [m for m in self._messages if now > m.visible_at and now >= m.delayed_until]


def _not_visible_count(self) -> int:
    now = unix_time_millis()
    return sum(1 for m in self._messages if now <= m.visible_at)


def _delayed_count(self) -> int:
    now = unix_time_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)


Queue.messages = property(_visible_messages)
Queue.approximate_number_of_messages_not_visible = property(_not_visible_count)
Queue.approximate_number_of_messages_delayed = property(_delayed_count)


def main() -> None:
    args = sys.argv[1:]
    host = args.pop(0) if len(args) == 2 else "127.0.0.1"
    if len(args) != 1 or not args[0].isdigit() or host not in ("127.0.0.1", "::1", "localhost"):
        sys.stderr.write("usage: launcher.py [127.0.0.1|::1] PORT\n")
        sys.exit(2)
    from moto.server import main as moto_main

    moto_main(["-H", host, "-p", args[0]])


if __name__ == "__main__":
    main()
