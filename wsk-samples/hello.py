def main(args):
    """The classic OpenWhisk greeting: wsk action create hello hello.py"""
    name = args.get("name", "stranger")
    greeting = f"Hello {name}!"
    print(greeting)
    return {"greeting": greeting}
