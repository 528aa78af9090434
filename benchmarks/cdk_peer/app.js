// The benchmark's peer: AWS CDK synthesizing the topology Odyssey plans for a stack of N services.
// A VPC over 3 AZs, an ECS cluster with an ASG capacity provider, one HTTPS ALB with an HTTP
// redirect, and N bridge-mode services, each with a listener rule and CPU autoscaling.
// Usage: node app.js N OUTDIR  -> prints {"services": N, "resources": count} of the synthesized template.
"use strict";
const fs = require("fs");
const path = require("path");
const cdk = require("aws-cdk-lib");
const ec2 = require("aws-cdk-lib/aws-ec2");
const ecs = require("aws-cdk-lib/aws-ecs");
const elbv2 = require("aws-cdk-lib/aws-elasticloadbalancingv2");
const autoscaling = require("aws-cdk-lib/aws-autoscaling");
const acm = require("aws-cdk-lib/aws-certificatemanager");

const services = parseInt(process.argv[2] || "1", 10);
const outdir = process.argv[3] || fs.mkdtempSync(path.join(require("os").tmpdir(), "cdk-peer-"));
const account = "123456789012";
const region = "us-east-1";

// Without context, an environment-specific stack would look the zones up in the account.
const app = new cdk.App({
  outdir,
  context: {
    [`availability-zones:account=${account}:region=${region}`]: ["us-east-1a", "us-east-1b", "us-east-1c"],
    // CloudFormation refuses stacks over 500 resources and CDK stops synthesis there; the
    // benchmark lifts the check to time the synthesis itself and reports where deploys would fail.
    "@aws-cdk/core:stackResourceLimit": 0,
    // A launch template, as Odyssey uses, rather than the deprecated launch configuration.
    "@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig": true,
  },
});
const stack = new cdk.Stack(app, `OdysseyPeer${services}`, { env: { account, region } });

const vpc = new ec2.Vpc(stack, "Vpc", { maxAzs: 3, natGateways: 3 });
const cluster = new ecs.Cluster(stack, "Cluster", { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
const group = new autoscaling.AutoScalingGroup(stack, "Nodes", {
  vpc,
  instanceType: new ec2.InstanceType("m7i.large"),
  machineImage: ecs.EcsOptimizedImage.amazonLinux2023(),
  minCapacity: 4,
  maxCapacity: 12,
  maxInstanceLifetime: cdk.Duration.days(1),
  requireImdsv2: true,
});
const capacity = new ecs.AsgCapacityProvider(stack, "Capacity", {
  autoScalingGroup: group,
  enableManagedTerminationProtection: false,
  enableManagedDraining: true,
});
cluster.addAsgCapacityProvider(capacity);

const alb = new elbv2.ApplicationLoadBalancer(stack, "Alb", { vpc, internetFacing: true });
const certificate = acm.Certificate.fromCertificateArn(
  stack, "Certificate", `arn:aws:acm:${region}:${account}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789`);
const https = alb.addListener("Https", {
  port: 443,
  certificates: [certificate],
  defaultAction: elbv2.ListenerAction.fixedResponse(404),
});
alb.addRedirect();

for (let i = 0; i < services; i++) {
  const task = new ecs.Ec2TaskDefinition(stack, `Task${i}`, { networkMode: ecs.NetworkMode.BRIDGE });
  task.addContainer("app", {
    image: ecs.ContainerImage.fromRegistry(`acme/service-${i}:1.0.0`),
    memoryLimitMiB: 512,
    portMappings: [{ containerPort: 8080, hostPort: 0 }],
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: `service-${i}` }),
  });
  const service = new ecs.Ec2Service(stack, `Service${i}`, {
    cluster,
    taskDefinition: task,
    circuitBreaker: { rollback: true },
    capacityProviderStrategies: [{ capacityProvider: capacity.capacityProviderName, weight: 1 }],
  });
  https.addTargets(`Targets${i}`, {
    priority: i + 1,
    conditions: [elbv2.ListenerCondition.pathPatterns([`/service-${i}/*`])],
    targets: [service],
    port: 80,
    healthCheck: { path: "/health" },
  });
  service.autoScaleTaskCount({ minCapacity: 2, maxCapacity: 10 })
    .scaleOnCpuUtilization(`Cpu${i}`, { targetUtilizationPercent: 60 });
}

const assembly = app.synth();
const template = assembly.getStackByName(stack.stackName).template;
console.log(JSON.stringify({ services, resources: Object.keys(template.Resources).length }));
