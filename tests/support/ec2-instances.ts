import { DescribeInstancesCommand, RunInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';

/** An AMI moto knows (moto/ec2/resources/amis.json.gz). */
const motoAmi = 'ami-12c6146b';

/** Starts `count` instances with `ec2` (a client straight to moto) and returns their ids. */
export async function launchInstances(ec2: EC2Client, count = 1): Promise<string[]> {
  const { Instances } = await ec2.send(new RunInstancesCommand({ ImageId: motoAmi, InstanceType: 't3.micro', MinCount: count, MaxCount: count }));
  return (Instances ?? []).map((instance) => instance.InstanceId ?? '');
}

/** Each instance's state name ('running', 'terminated' …), in the order asked; 'missing' for one moto does not know. */
export async function instanceStates(ec2: EC2Client, instanceIds: string[]): Promise<string[]> {
  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }));
  const states = new Map((Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).map((instance) => [instance.InstanceId, instance.State?.Name]));
  return instanceIds.map((id) => states.get(id) ?? 'missing');
}
