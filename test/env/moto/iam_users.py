"""Creates IAM users in a moto server that enforces IAM (started with
INITIAL_NO_AUTH_ACTION_COUNT=3): the three unauthenticated actions create an
administrator, which then creates a user with the policy given. Prints both
key pairs as JSON: {"admin": {...}, "user": {...}}.

Usage: python iam_users.py ENDPOINT USER_NAME POLICY_JSON
"""

import json
import sys

import boto3

endpoint, user_name, policy = sys.argv[1], sys.argv[2], sys.argv[3]
common = {"endpoint_url": endpoint, "region_name": "us-east-1"}


def keys(access_key):
    return {"accessKeyId": access_key["AccessKeyId"], "secretAccessKey": access_key["SecretAccessKey"]}


# The three actions moto lets through before it enforces IAM.
root = boto3.client("iam", aws_access_key_id="test", aws_secret_access_key="test", **common)
root.create_user(UserName="nthd-test-admin")
root.put_user_policy(
    UserName="nthd-test-admin",
    PolicyName="everything",
    PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    ),
)
admin = keys(root.create_access_key(UserName="nthd-test-admin")["AccessKey"])

iam = boto3.client(
    "iam", aws_access_key_id=admin["accessKeyId"], aws_secret_access_key=admin["secretAccessKey"], **common
)
iam.create_user(UserName=user_name)
iam.put_user_policy(UserName=user_name, PolicyName="nthd", PolicyDocument=policy)
user = keys(iam.create_access_key(UserName=user_name)["AccessKey"])
print(json.dumps({"admin": admin, "user": user}))
