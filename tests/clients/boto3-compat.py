"""A stock boto3 program configured by environment alone (AWS_ENDPOINT_URL, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN,
AWS_REGION): one representative create and read per service of the compatibility matrix, all in one process.

Usage: python3 boto3-compat.py <name-prefix> <lambda-zip> <role-arn>
Prints one JSON object: {"<service>": {"ok": true} | {"ok": false, "code": ..., "status": ..., "message": ...}}.
"""

import json
import sys

import boto3
from botocore.exceptions import ClientError

prefix, lambda_zip, role_arn = sys.argv[1:4]
session = boto3.session.Session()
# Every client as the environment configures it. Run in a region other than us-east-1, this shows how the global
# services (IAM, Route 53) are signed: with a custom endpoint, botocore signs them for the client's region.
client = session.client
account = '123456789012'
template = json.dumps({'Resources': {'Topic': {'Type': 'AWS::SNS::Topic'}}})


def s3():
    c = client('s3')
    if session.region_name == 'us-east-1':
        c.create_bucket(Bucket=f'{prefix}-bucket')
    else:
        c.create_bucket(Bucket=f'{prefix}-bucket', CreateBucketConfiguration={'LocationConstraint': session.region_name})
    c.put_object(Bucket=f'{prefix}-bucket', Key='hello.txt', Body=b'hello from boto3')
    assert c.get_object(Bucket=f'{prefix}-bucket', Key='hello.txt')['Body'].read() == b'hello from boto3'


def s3control():
    c = client('s3control')
    c.put_public_access_block(AccountId=account, PublicAccessBlockConfiguration={'BlockPublicAcls': True})
    c.get_public_access_block(AccountId=account)


def sts():
    assert client('sts').get_caller_identity()['Account'] == account


def iam():
    c = client('iam')
    c.create_user(UserName=f'{prefix}-user')
    c.get_user(UserName=f'{prefix}-user')


def ec2():
    c = client('ec2')
    c.create_security_group(GroupName=f'{prefix}-sg', Description='compat')
    c.describe_security_groups(GroupNames=[f'{prefix}-sg'])


def lambda_():
    c = client('lambda')
    with open(lambda_zip, 'rb') as f:
        code = f.read()
    c.create_function(FunctionName=f'{prefix}-fn', Runtime='python3.12', Role=role_arn, Handler='index.handler', Code={'ZipFile': code})
    c.get_function(FunctionName=f'{prefix}-fn')


def dynamodb():
    c = client('dynamodb')
    c.create_table(
        TableName=f'{prefix}-table',
        AttributeDefinitions=[{'AttributeName': 'id', 'AttributeType': 'S'}],
        KeySchema=[{'AttributeName': 'id', 'KeyType': 'HASH'}],
        BillingMode='PAY_PER_REQUEST',
    )
    c.describe_table(TableName=f'{prefix}-table')


def secretsmanager():
    c = client('secretsmanager')
    c.create_secret(Name=f'{prefix}-secret', SecretString='s3cr3t-value')
    c.describe_secret(SecretId=f'{prefix}-secret')


def ssm():
    c = client('ssm')
    c.put_parameter(Name=f'{prefix}-param', Value='v', Type='String')
    # Airlock's default masking profile masks parameter values; botocore still parses the answer.
    assert c.get_parameter(Name=f'{prefix}-param')['Parameter']['Value'] == '[MASKED:parameter-value]'


def sqs():
    c = client('sqs')
    c.create_queue(QueueName=f'{prefix}-queue')
    c.get_queue_url(QueueName=f'{prefix}-queue')


def sns():
    c = client('sns')
    arn = c.create_topic(Name=f'{prefix}-topic')['TopicArn']
    c.get_topic_attributes(TopicArn=arn)


def kms():
    c = client('kms')
    key = c.create_key(Description=f'{prefix}-key')['KeyMetadata']['KeyId']
    c.describe_key(KeyId=key)


def logs():
    c = client('logs')
    c.create_log_group(logGroupName=f'{prefix}-logs')
    c.describe_log_groups(logGroupNamePrefix=f'{prefix}-logs')


def cloudformation():
    c = client('cloudformation')
    c.create_stack(StackName=f'{prefix}-stack', TemplateBody=template)
    c.describe_stacks(StackName=f'{prefix}-stack')


def route53():
    c = client('route53')
    zone = c.create_hosted_zone(Name=f'{prefix}.example.com', CallerReference=f'{prefix}-ref')['HostedZone']['Id']
    c.get_hosted_zone(Id=zone.split('/')[-1])


def ecr():
    c = client('ecr')
    c.create_repository(repositoryName=f'{prefix}-repo')
    c.describe_repositories(repositoryNames=[f'{prefix}-repo'])


def ecs():
    c = client('ecs')
    c.create_cluster(clusterName=f'{prefix}-cluster')
    c.describe_clusters(clusters=[f'{prefix}-cluster'])


def rds():
    c = client('rds')
    c.create_db_parameter_group(DBParameterGroupName=f'{prefix}-pg', DBParameterGroupFamily='postgres16', Description='compat')
    c.describe_db_parameter_groups(DBParameterGroupName=f'{prefix}-pg')


def kinesis():
    c = client('kinesis')
    c.create_stream(StreamName=f'{prefix}-stream', ShardCount=1)
    c.describe_stream_summary(StreamName=f'{prefix}-stream')


def events():
    c = client('events')
    c.put_rule(Name=f'{prefix}-rule', ScheduleExpression='rate(5 minutes)')
    c.describe_rule(Name=f'{prefix}-rule')


calls = {
    's3': s3, 's3control': s3control, 'sts': sts, 'iam': iam, 'ec2': ec2, 'lambda': lambda_, 'dynamodb': dynamodb,
    'secretsmanager': secretsmanager, 'ssm': ssm, 'sqs': sqs, 'sns': sns, 'kms': kms, 'logs': logs,
    'cloudformation': cloudformation, 'route53': route53, 'ecr': ecr, 'ecs': ecs, 'rds': rds, 'kinesis': kinesis,
    'events': events,
}
only = set(sys.argv[4].split(',')) if len(sys.argv) > 4 and sys.argv[4] else None
results = {}
for name, call in calls.items():
    if only and name not in only:
        continue
    try:
        call()
        results[name] = {'ok': True}
    except ClientError as error:
        results[name] = {
            'ok': False,
            'code': error.response.get('Error', {}).get('Code'),
            'status': error.response.get('ResponseMetadata', {}).get('HTTPStatusCode'),
            'message': error.response.get('Error', {}).get('Message'),
        }
    except Exception as error:  # noqa: BLE001 - the matrix reports every failure, whatever its kind
        results[name] = {'ok': False, 'code': type(error).__name__, 'status': None, 'message': str(error)}
print(json.dumps(results))
