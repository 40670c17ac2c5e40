// The example service faultline ships, serves and attacks.
namespace rs faultline.echo

struct Request {
    1: required string message
}

struct Response {
    1: required string message
}

service Echo {
    Response echo(1: Request req)
}
