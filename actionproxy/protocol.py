"""The OpenWhisk runtime wire contract, frozen in one place.

Strings here are compared byte for byte by OpenWhisk's own runtime tests
(``BasicActionRunnerTests``) and by ours; change them only to follow upstream.
"""

from typing import Final

PORT: Final = 8080

#: Written to stdout and stderr after every /run and after a failed /init; the
#: invoker cuts the container's log stream into activations on this line.
SENTINEL: Final = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

# Exact upstream messages (openwhisk-runtime-docker actionproxy.py,
# openwhisk-runtime-go initHandler.go/runHandler.go, openwhisk-runtime-nodejs).
REINIT_REFUSED: Final = "Cannot initialize the action more than once."
NO_CODE: Final = "Missing main/no code to execute."
BUILD_FAILED: Final = "The action failed to generate or locate a binary. See logs for details."
CANNOT_START: Final = "Cannot start action. Check logs for details."
EXITED_DURING_INIT: Final = "Command exited abruptly during initialization."
NOT_DICT_RESULT: Final = "The action did not return a dictionary or array."
NOT_DICT_ARGUMENT: Final = "The action did not receive a dictionary or array as an argument."
BUSY: Final = "System not ready, status is running."
#: The Node.js proxy logs a refused overlapping /run with this prefix on stderr.
INTERNAL_ERROR_PREFIX: Final = "Internal system error: "
COMMAND_EXITED: Final = "command exited"
NO_ACTION: Final = "no action defined yet"
INVALID_VIRTUALENV: Final = "Invalid virtualenv. Zip file does not include 'activate_this.py'."
ZIP_WITHOUT_MAIN: Final = "Zip file does not include __main__.py"
NODE_ZIP_WITHOUT_ENTRY: Final = (
    "Zipped actions must contain either package.json or index.js at the root."
)
NODE_INIT_FAILED_PREFIX: Final = "Initialization has failed due to: "
NODE_RUN_FAILED_PREFIX: Final = "An error has occurred: "

#: Every top-level /run key except ``value`` becomes ``__OW_<KEY>`` for the action.
CONTEXT_PREFIX: Final = "__OW_"

#: Container environment switches, as in OpenWhisk's images.
ALLOW_CONCURRENT_ENV: Final = "__OW_ALLOW_CONCURRENT"
ALLOW_REINIT_ENV: Final = "PROXY_ALLOW_REINIT"
#: whiskrun's invoker sets it on a snapshot source (see __main__.freeze_gc).
SNAPSHOT_SOURCE_ENV: Final = "OW_SNAPSHOT_SOURCE"

#: Linux MAX_ARG_STRLEN - 1: a native action also gets its input as argv[1]
#: when it fits, as the dockerskeleton does.
MAX_ARGV_CHARS: Final = 131071


def context_variable(key: str) -> str:
    """``activation_id`` -> ``__OW_ACTIVATION_ID``."""
    return CONTEXT_PREFIX + key.upper()
