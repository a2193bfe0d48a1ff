"""Runs the SAM transform of template.yaml offline, as CloudFormation would run it at deploy time,
and fails on any transform error (e.g. a property SAM cannot make conditional), which
`sam validate --lint` does not catch. Needs no AWS credentials: the one managed policy SAM attaches
is given here. Run with the Python of .venv/deploy (aws-sam-cli brings samtranslator)."""
import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class ManagedPolicies:
    def load(self):
        return {
            "AWSLambdaBasicExecutionRole":
                "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        }


def main(path):
    template = yaml_parse(open(path).read())
    # `sam build` replaces the local CodeUri with the uploaded artifact; do the same.
    template["Globals"]["Function"]["CodeUri"] = "s3://bucket/key"
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in resource["Properties"]:
            resource["Properties"]["CodeUri"] = "s3://bucket/key"
    out = transform(template, {}, ManagedPolicies())
    kinds = {}
    for resource in out["Resources"].values():
        kinds[resource["Type"]] = kinds.get(resource["Type"], 0) + 1
    print(json.dumps(kinds, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
