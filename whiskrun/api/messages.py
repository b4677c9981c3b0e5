"""OpenWhisk's API messages, word for word (``http/ErrorResponse.scala`` Messages),
so that `wsk` and the npm client show what users know from OpenWhisk."""

RESOURCE_DOES_NOT_EXIST = "The requested resource does not exist."
RESOURCE_EXISTS = "resource already exists"
NOT_IN_COLLECTION = "Resource by this name exists but is not in this collection."
AUTH_INVALID = "The supplied authentication is invalid"
AUTH_MISSING = "The resource requires authentication, which was not supplied with the request"
NOT_AUTHORIZED = "The supplied authentication is not authorized to access this resource."
ENTITY_NAME_ILLEGAL = "The name of the entity contains illegal characters."
NAMESPACE_ILLEGAL = "The namespace contains illegal characters."
ACTIVATION_ID_ILLEGAL = "The activation id is not valid."
SEQUENCE_TOO_LONG = "Too many actions in the sequence."
SEQUENCE_NO_COMPONENT = "No component specified for the sequence."
SEQUENCE_CYCLIC = "Sequence may not refer to itself."
SEQUENCE_COMPONENT_NOT_FOUND = "Sequence component does not exist."
BINDING_DOES_NOT_EXIST = "Binding references a package that does not exist."
BINDING_CANNOT_REFERENCE_BINDING = "Cannot bind to another package binding."
NOT_ALLOWED_ON_BINDING = "Operation not permitted on package binding."
PARAMETERS_NOT_ALLOWED = "Request defines parameters that are not allowed (e.g., reserved properties)."
DOCS_NOT_ALLOWED_WITH_COUNT = "The parameter 'docs' is not permitted with 'count'."
SYSTEM_OVERLOADED = "System is overloaded, try again later."
MALFORMED = "The request content was malformed:\n"
RESPONSE_NOT_READY = "Response not yet ready."
ERROR_PROCESSING_REQUEST = "There was an error processing your request."
PROPERTY_NOT_FOUND = "Response does not include requested property."
METHOD_NOT_ALLOWED = "HTTP method not allowed, supported methods: "
PACKAGE_CANNOT_BECOME_BINDING = "Resource is a package and cannot be converted into a binding."
#: pekko's default text for 401, which WebActions.scala answers when require-whisk-auth is not met.
WEB_UNAUTHORIZED = "Authentication is possible but has failed or not yet been provided."
# Deserialisation errors of a PUT body (spray-json readers in Exec.scala, Parameter.scala, SemVer.scala),
# shown after MALFORMED.
EXEC_UNDEFINED = "exec undefined"  # a new action without exec (Actions.scala make), no MALFORMED prefix
JSON_OBJECT_EXPECTED = "JSON object expected"
EXEC_KIND_MISSING = "'kind' must be a string defined in 'exec'"
PARAMETERS_MALFORMED = "parameters malformed!"
SEMVER_MALFORMED = "semantic version malformed"
FQN_MALFORMED = ("requirement failed: The fully qualified name of the entity must contain at least the namespace "
                 "and the name of the entity.")

FEED_NAME_INVALID = "Feed name is not valid"
JSON_TOO_DEEP = ("The body nests JSON arrays or objects deeper than this server reads (about 900 levels); "
                 "send a flatter document.")
LONE_SURROGATE = ("The body holds a lone UTF-16 surrogate escape (\\ud800-\\udfff without its pair), which is "
                  "not Unicode text; send the character itself or both halves of the pair.")
RULE_NEEDS_TRIGGER_AND_ACTION = "rule requires a valid trigger and a valid action"
RULE_NEEDS_EXISTING_TRIGGER = "Only rules with existing triggers can be activated"
RULE_STATES = "must be one of ['active', 'inactive']"


def malformed(detail: str) -> str:
    return MALFORMED + detail


def malformed_query(parameter: str, detail: str) -> str:
    """pekko's rejection of a query parameter whose unmarshaller failed (paging, timeout, name, since)."""
    return f"The query parameter '{parameter}' was malformed:\n{detail}"


def exec_code_missing(kind: str) -> str:
    return f"'code' must be a string defined in 'exec' for '{kind}' actions"


def exec_main_malformed(kind: str) -> str:
    return f"if defined, 'main' be a string in 'exec' for '{kind}' actions"  # sic


def exec_image_missing() -> str:
    return "'image' must be a string defined in 'exec' for 'blackbox' actions"


def expected_boolean(json_text: str) -> str:
    return f"Expected JsBoolean as JsBoolean, but got {json_text}"


def limit_not_whole(name: str) -> str:
    """``name``: time, memory, log, intra concurrency."""
    return f"requirement failed: {name} limit must be whole number"


def limit_malformed(name: str) -> str:
    """``name``: time, memory, log, concurrency."""
    return f"{name} limit malformed"


def entity_name_too_long(length: int) -> str:
    return f"Name segement longer than allowed: {length} > 256."  # sic: OpenWhisk's spelling


def activation_id_length(length: int) -> str:
    return f"Activation id length is {length} but must be 32."


def entity_too_big(field: str, size: int, allowed: int) -> str:
    return f"{field} larger than allowed: {size} > {allowed} bytes."


def invalid_runtime(kind: str, runtimes: list[str]) -> str:
    listed = ", ".join(f"'{name}'" for name in runtimes)
    return f"The specified runtime '{kind}' is not supported by this platform. Valid values are: {listed}."


def list_limit_out_of_range(collection: str, value: int, maximum: int) -> str:
    return f"The value '{value}' is not in the range of 0 to {maximum} for {collection}."


def list_skip_out_of_range(collection: str, value: int) -> str:
    return f"The value '{value}' is not greater than or equal to 0 for {collection}."


def argument_not_integer(collection: str, value: str) -> str:
    return f"The value '{value}' is not an integer for {collection}."


def invalid_timeout(max_ms: int) -> str:
    return f"Timeout must be number of milliseconds up to {max_ms}."


def bad_name_filter(value: str) -> str:
    return f"Parameter may be a 'simple' name or 'package-name/simple' name: {value}"


def bad_epoch(value: str) -> str:
    return f"Parameter is not a valid value for epoch seconds: {value}"


def too_many_requests(count: int, allowed: int) -> str:
    return f"Too many requests in the last minute (count: {count}, allowed: {allowed})."


def too_many_concurrent_requests(count: int, allowed: int) -> str:
    return f"Too many concurrent requests in flight (count: {count}, allowed: {allowed})."


# Limits: Scala's require() prefixes "requirement failed: " to these (TimeLimit/MemoryLimit/...).
def size_exceeds(field: str, value: int, allowed: int) -> str:
    return f"requirement failed: {field} size {value} MB exceeds allowed threshold of {allowed} MB"


def size_below(field: str, value: int, allowed: int) -> str:
    return f"requirement failed: {field} size {value} MB below allowed threshold of {allowed} MB"


def duration_exceeds(value: int, allowed: int) -> str:
    return f"requirement failed: duration {value} milliseconds exceeds allowed threshold of {allowed} milliseconds"


def duration_below(value: int, allowed: int) -> str:
    return f"requirement failed: duration {value} milliseconds below allowed threshold of {allowed} milliseconds"


def concurrency_exceeds(value: int, allowed: int) -> str:
    return f"requirement failed: concurrency {value} exceeds allowed threshold of {allowed}"


def concurrency_below(value: int, allowed: int) -> str:
    return f"requirement failed: concurrency {value} below allowed threshold of {allowed}"


def entity_does_not_exist(kind: str, path: str) -> str:
    """Rules.scala checkTriggerAndActionExist: ``trigger /guest/t does not exist``."""
    return f"{kind} /{path} does not exist"


def rule_inactive(rule: str, action: str) -> str:
    """A trigger record's log line for an inactive rule (Messages.triggerWithInactiveRule)."""
    return f"Rule '{rule}' is inactive, action '{action}' was not activated."


def rule_state_unrecognized(value: str) -> str:
    return f"requirement failed: {value} is not a recognized rule state"
